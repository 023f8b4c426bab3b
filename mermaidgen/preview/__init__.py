"""Views of a diagram for the terminal."""
