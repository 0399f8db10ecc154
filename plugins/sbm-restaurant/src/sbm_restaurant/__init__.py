"""SBM industry pack for restaurants: standards, readers and sample data for food service."""
