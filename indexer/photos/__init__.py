"""Product photos named by http(s) URL: the SSRF guard (guard), the content-addressed cache in CATALOG_HOME
(cache), the downloader (fetch) and the indexer's use of them around extraction (resolve)."""
