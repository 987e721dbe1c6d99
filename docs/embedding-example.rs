// docs/embedding.md's complete Rust example (built and run by testsuite/tests/embed.rs).
include!(concat!(env!("OUT_DIR"), "/calc.rs")); // written by build.rs: `pub mod calc { ... }`

use calc::{Caller, Config, Instance, Trap};

/// The host's side of the plugin: its imports, and what they keep.
struct Host {
    lines: Vec<String>,
}

impl calc::Imports for Host {
    fn host_log(caller: &mut Caller<'_, Self>, ptr: i32, len: i32) {
        let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
        let Some(bytes) = caller.memory().get(ptr..ptr + len) else { return };
        let text = String::from_utf8_lossy(bytes).into_owned();
        println!("log: {text}");
        caller.user_data_mut().lines.push(text);
    }
    fn host_twice(_: &mut Caller<'_, Self>, x: i64) -> i64 {
        2 * x
    }
    fn host_scale(_: &mut Caller<'_, Self>, f: f32, d: f64) -> f64 {
        f as f64 * d
    }
}

fn main() -> Result<(), Trap> {
    let mut inst = Instance::new(Host { lines: Vec::new() }, &Config::new())?;
    println!("2 + 3 = {}", inst.add(2, 3)?);
    if let Err(trap) = inst.div(1, 0) {
        println!("{trap}");
    }
    inst.memory()[64..74].copy_from_slice(b"shout this");
    inst.shout(64, 10)?;
    println!("{}", String::from_utf8_lossy(&inst.memory()[64..74]));
    println!("logged: {:?}", inst.user_data().lines);
    Ok(())
}
