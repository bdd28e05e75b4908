//! The kernel vocabulary (`macros/src/vocab.rs`) agrees with the runtime: every float method
//! a kernel may call exists on `loopfuse::Float` (so it works in generic kernels), every
//! integer method on the integers, and every math method has its `loopfuse::math` function
//! and slice helper. A missing one fails to compile.

loopfuse::__vocab_check!();

#[test]
fn every_method_of_the_vocabulary_exists() {
    float_methods(0.5f64);
    float_methods(0.5f32);
    int_methods(3);
    math_functions(0.5f64);
    math_functions(0.5f32);
}

#[loopfuse::kernel]
fn fract_generic<T: loopfuse::Float>(x: &[T]) -> Vec<T> {
    x.fract()
}

#[test]
fn fract_in_a_generic_kernel() {
    let x = [1.25f64, -2.5, 3.0];
    assert_eq!(fract_generic(&x[..]), x.iter().map(|v| v.fract()).collect::<Vec<_>>());
    let y = [1.25f32, -2.5];
    assert_eq!(fract_generic(&y[..]), vec![0.25f32, -0.5]);
}
