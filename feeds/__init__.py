"""Feed ingestion: fetch, parse, clean and store articles. Imports nothing of geobrief's."""
