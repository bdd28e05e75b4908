//! Compile-time behaviour of `#[kernel]`: every rejected construct gives one clear error
//! (`tests/ui/fail`), and the supported signatures compile warning-free (`tests/ui/pass`).
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test compiletest`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
