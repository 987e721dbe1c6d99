// Intentionally empty: this crate only pins C sources for bench/.
