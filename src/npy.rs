//! NPY
