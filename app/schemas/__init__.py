"""Request and response models for the JSON API (the OpenAPI contract)."""
