"""What every hook shares: args model, the two faces, AWS sessions, processes, files, logging, waits."""
