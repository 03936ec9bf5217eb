"""Browser tests (Playwright + Debian's Chromium). A package, so that its test modules are
imported as `browser.test_*` and never clash with a same-named module in tests/."""
