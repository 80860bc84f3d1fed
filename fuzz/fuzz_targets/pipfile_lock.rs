#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    otel_bootstrap::fuzzing::pipfile_lock(data);
});
