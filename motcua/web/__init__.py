"""Flask glue shared by the API and the screens: errors, who is asking, body parsing."""
