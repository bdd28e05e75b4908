//! Vectorizable transcendental math (filled in by the math work; see issue 5).
