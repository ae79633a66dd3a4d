"""Services: plain functions over the store (people, programmes; matching and more later)."""
