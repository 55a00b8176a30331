"""What every stage may use and no stage owns: the clock, the local SQLite files, the loopback HTTP server, and the
shared vocabulary (email, merge-tag and Botox patterns, ISO times, Mailchimp's member id)."""
