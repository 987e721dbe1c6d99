module top(input clk, output [3:0] led);
  reg [15:0] ctr = 0;
  always @(posedge clk) ctr <= ctr + 1;
  assign led = ctr[15:12];
endmodule
