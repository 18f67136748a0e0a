"""Activities: models' behaviour, forms, views and services."""
