#![no_main]

//! The index client's project page parsers (PEP 503 HTML and PEP 691 JSON): any body, no
//! panic, and never more files than links or than the page budget.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(page) = otel_bootstrap::index::Url::parse("https://index.example/simple/demo/") else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    for parsed in [
        otel_bootstrap::index::parse_html_page(&text, &page),
        otel_bootstrap::index::parse_json_page(data, &page),
    ] {
        if let Ok(files) = parsed {
            assert!(files.files.len() <= files.links);
            assert!(files.links <= otel_bootstrap::index::MAXIMUM_PAGE_ENTRIES);
        }
    }
});
