//! Compiles `proto/gatekeeper.proto` with the pure-Rust `protox` compiler and
//! feeds the descriptors to `prost-build`: no `protoc` is needed to build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/gatekeeper.proto");
    let descriptors = protox::compile(["proto/gatekeeper.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
