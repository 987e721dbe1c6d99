// Never built: this crate only pins C sources (see Cargo.toml).
