"""The web app: the JSON API under /api, the web page at /, and `rilievo serve`, which runs them."""
