"""Commands and conversations anyone has at any moment of the programme."""
