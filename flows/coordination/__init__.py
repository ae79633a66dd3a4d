"""What coordinators ask for: status, pairs, exports and the weekly digest."""
