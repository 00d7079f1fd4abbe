//! Generates the gRPC code for `proto/runner.proto` (see `src/remote/`).
//!
//! protox parses the proto in Rust and hands tonic-prost-build a descriptor set,
//! so no `protoc` binary is needed on any machine that builds the runner.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/runner.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
