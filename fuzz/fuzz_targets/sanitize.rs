#![no_main]

//! The one sanitizer: no control character survives it, clean text is kept as it is.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    otel_bootstrap::sanitize::fuzz(data);
});
