// Rust with wasm SIMD: std::arch::wasm32 intrinsics, built by Debian's rustc
// for wasm32-wasi with `-C target-feature=+simd128` (NAME.rustflags), so
// LLVM may also vectorise the plain iterator code below. The module's code
// has v128 instructions both from the intrinsics (i8x16.shuffle,
// i32x4.dot_i16x8_s, v128.bitselect, f32x4.sqrt, ...) and from loops LLVM
// vectorised (`wasm-objdump -d` shows them in main's callees).
use std::arch::wasm32::*;

/// ASCII upper-casing, 16 bytes at a time: a lane compare builds the mask
/// of lowercase letters, and bitselect clears their 0x20 bit.
fn upper(s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; s.len()];
    let mut i = 0;
    while i + 16 <= s.len() {
        unsafe {
            let v = v128_load(s.as_ptr().add(i) as *const v128);
            let is_lower = v128_and(u8x16_ge(v, u8x16_splat(b'a')), u8x16_le(v, u8x16_splat(b'z')));
            let up = v128_bitselect(v128_andnot(v, u8x16_splat(0x20)), v, is_lower);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, up);
        }
        i += 16;
    }
    for j in i..s.len() {
        out[j] = s[j].to_ascii_uppercase();
    }
    out
}

/// Dot product of i16 vectors with i32x4.dot_i16x8_s.
fn dot(a: &[i16], b: &[i16]) -> i64 {
    let mut acc = i32x4_splat(0);
    let mut total: i64 = 0;
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        unsafe {
            let va = v128_load(ca.as_ptr() as *const v128);
            let vb = v128_load(cb.as_ptr() as *const v128);
            acc = i32x4_add(acc, i32x4_dot_i16x8(va, vb));
        }
    }
    for l in [i32x4_extract_lane::<0>(acc), i32x4_extract_lane::<1>(acc), i32x4_extract_lane::<2>(acc), i32x4_extract_lane::<3>(acc)] {
        total += l as i64;
    }
    total
}

/// Euclidean lengths of 4 points at a time.
fn lengths(xs: &[f32], ys: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    for (cx, cy) in xs.chunks_exact(4).zip(ys.chunks_exact(4)) {
        let x = f32x4(cx[0], cx[1], cx[2], cx[3]);
        let y = f32x4(cy[0], cy[1], cy[2], cy[3]);
        let l = f32x4_sqrt(f32x4_add(f32x4_mul(x, x), f32x4_mul(y, y)));
        out.extend([f32x4_extract_lane::<0>(l), f32x4_extract_lane::<1>(l), f32x4_extract_lane::<2>(l), f32x4_extract_lane::<3>(l)]);
    }
    out
}

fn lanes_u8(v: v128) -> [u8; 16] {
    unsafe { std::mem::transmute(v) }
}

fn main() {
    let text = b"Kiln fires WebAssembly into native code; wasm simd128 lanes, shuffles & saturating adds!";
    println!("upper: {}", String::from_utf8(upper(text)).unwrap());

    let a: Vec<i16> = (0..64).map(|i| ((i * 1237) % 4001 - 2000) as i16).collect();
    let b: Vec<i16> = (0..64).map(|i| ((i * 71) % 301 - 150) as i16).collect();
    let scalar: i64 = a.iter().zip(&b).map(|(x, y)| *x as i64 * *y as i64).sum();
    println!("dot: {} (scalar {})", dot(&a, &b), scalar);

    let xs: Vec<f32> = (0..8).map(|i| i as f32 * 1.5 - 4.0).collect();
    let ys: Vec<f32> = (0..8).map(|i| 3.0 - i as f32 * 0.75).collect();
    let ls: Vec<String> = lengths(&xs, &ys).iter().map(|l| format!("{:.6}", l)).collect();
    println!("lengths: {}", ls.join(" "));

    // Shuffles and swizzles.
    let v = u8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let w = u8x16_splat(0xf0);
    let rev = i8x16_shuffle::<15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0>(v, w);
    let mix = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 28, 29, 30, 31, 12, 13, 14, 15>(v, w);
    println!("shuffle reverse: {:?}", lanes_u8(rev));
    println!("shuffle mix: {:?}", lanes_u8(mix));
    let idx = u8x16(3, 3, 0, 200, 15, 16, 1, 2, 8, 8, 9, 9, 31, 7, 6, 5);
    println!("swizzle: {:?}", lanes_u8(i8x16_swizzle(rev, idx)));

    // Saturating arithmetic and narrowing.
    let big = u8x16_add_sat(u8x16_splat(200), v);
    println!("u8 add_sat: {:?}", lanes_u8(big));
    let s = i16x8_sub_sat(i16x8(-32000, 32000, 5, -5, 0, 100, -100, 7), i16x8_splat(1000));
    println!("i16 sub_sat: {:?}", unsafe { std::mem::transmute::<v128, [i16; 8]>(s) });
    let n = u8x16_narrow_i16x8(s, i16x8(300, -3, 255, 256, 1, 2, 3, 4));
    println!("narrow: {:?}", lanes_u8(n));
    println!("bitmask: {:#06x} all_true: {} any_true: {}", i8x16_bitmask(rev), u8x16_all_true(v), v128_any_true(v));

    // Plain iterator code that LLVM vectorises with simd128 enabled.
    let data: Vec<u32> = (0..1000u32).map(|i| i.wrapping_mul(2654435761) >> 7).collect();
    let sum: u32 = data.iter().fold(0u32, |s, x| s.wrapping_add(*x));
    let max = data.iter().copied().max().unwrap();
    let bytes: Vec<u8> = data.iter().map(|x| (*x as u8).saturating_add(100)).collect();
    let h = bytes.iter().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(*b as u32));
    println!("iter: sum {} max {} bytes hash {}", sum, max, h);
}
