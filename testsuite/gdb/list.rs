// A Rust program (Debian rustc 1.63, wasm32-wasi, -g): gdb shows
// demangled Rust names, Rust source lines and variables in nested scopes.
struct Node { value: i32, next: Option<Box<Node>> }

fn build(n: i32) -> Option<Box<Node>> {
    let mut head = None;
    for i in (1..=n).rev() {
        head = Some(Box::new(Node { value: i * 10, next: head }));
    }
    head
}

fn total(list: &Option<Box<Node>>) -> i32 {
    let mut sum = 0;
    let mut cur = list;
    while let Some(node) = cur {
        sum += node.value;
        cur = &node.next;
    }
    sum
}

fn main() {
    let list = build(4);
    let t = total(&list);
    println!("total={}", t);
}
