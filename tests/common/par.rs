//! What the `parallel` tests share (`tests/parallel.rs`, `tests/nd_parallel.rs`): the
//! pools of every thread count, results as bits, and `twins!` (a kernel written serial and
//! `parallel` from one body).
#![allow(dead_code)]

use loopfuse::KernelError;
use std::sync::OnceLock;

/// The thread counts of the issue: 1 to 4, 7, and more threads than cores.
pub const THREADS: [usize; 6] = [1, 2, 3, 4, 7, 16];

pub fn pools() -> &'static [(usize, rayon::ThreadPool)] {
    static POOLS: OnceLock<Vec<(usize, rayon::ThreadPool)>> = OnceLock::new();
    POOLS.get_or_init(|| {
        THREADS.iter().map(|&t| (t, rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap())).collect()
    })
}

/// A result as bits, NaNs as one value.
pub trait Bits {
    fn bits(&self, out: &mut Vec<u64>);
}

impl Bits for f64 {
    fn bits(&self, out: &mut Vec<u64>) {
        out.push(if self.is_nan() { u64::MAX } else { self.to_bits() });
    }
}
impl Bits for f32 {
    fn bits(&self, out: &mut Vec<u64>) {
        out.push(if self.is_nan() { u64::MAX } else { self.to_bits() as u64 });
    }
}
impl Bits for usize {
    fn bits(&self, out: &mut Vec<u64>) {
        out.push(*self as u64);
    }
}
impl Bits for bool {
    fn bits(&self, out: &mut Vec<u64>) {
        out.push(*self as u64);
    }
}
impl Bits for () {
    fn bits(&self, _: &mut Vec<u64>) {}
}
impl<T: Bits> Bits for [T] {
    fn bits(&self, out: &mut Vec<u64>) {
        out.push(self.len() as u64);
        self.iter().for_each(|x| x.bits(out));
    }
}
impl<T: Bits> Bits for Vec<T> {
    fn bits(&self, out: &mut Vec<u64>) {
        self[..].bits(out)
    }
}
impl<T: Bits, S: ndarray::Data<Elem = T>, D: ndarray::Dimension> Bits for ndarray::ArrayBase<S, D> {
    fn bits(&self, out: &mut Vec<u64>) {
        // The shape, then the elements in logical order.
        out.extend(self.shape().iter().map(|&d| d as u64));
        self.iter().for_each(|x| x.bits(out));
    }
}
impl<T: Bits> Bits for Result<T, KernelError> {
    fn bits(&self, out: &mut Vec<u64>) {
        match self {
            Ok(v) => v.bits(out),
            // The message names the kernel: `serial` or `parallel`, the same otherwise.
            Err(e) => out.extend(e.to_string().replace("`parallel`", "`serial`").bytes().map(u64::from)),
        }
    }
}
macro_rules! tuple_bits {
    ($(($($T:ident $i:tt),*))*) => {$(
        impl<$($T: Bits),*> Bits for ($($T,)*) {
            fn bits(&self, out: &mut Vec<u64>) { $( self.$i.bits(out); )* }
        }
    )*};
}
tuple_bits! { (A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3) (A 0, B 1, C 2, D 3, E 4) (A 0, B 1, C 2, D 3, E 4, F 5) }

pub fn bits<T: Bits + ?Sized>(x: &T) -> Vec<u64> {
    let mut v = Vec::new();
    x.bits(&mut v);
    v
}

/// `twins! { fn name(params) -> [R] { body } }`: `mod name` with `serial` (`#[kernel]`) and
/// `parallel` (`#[kernel(parallel)]`, or with more options after a `[..]`) of one body.
macro_rules! twins {
    ($( fn $name:ident ($($p:tt)*) -> [$($r:tt)*] { $($body:tt)* } $([$($opt:tt)*])? )*) => {$(
        #[allow(dead_code)]
        mod $name {
            use super::*;
            #[kernel $(($($opt)*))?]
            pub fn serial($($p)*) -> $($r)* { $($body)* }
            #[kernel(parallel $(, $($opt)*)?)]
            pub fn parallel($($p)*) -> $($r)* { $($body)* }
        }
    )*};
}
