"""Working on goals between meetings: SMART goals and check-ins."""
