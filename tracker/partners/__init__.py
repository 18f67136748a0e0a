"""Partners: models' behaviour, forms, views and services."""
