"""Local load management: a networking node shares its site's grid capacity among stations."""
