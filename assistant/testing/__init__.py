"""Tools for testers: replaying flows at scale (`assistant replay`) and pytest plugins."""
