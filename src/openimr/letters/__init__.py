"""Final Determination letters: read every layout, write every layout."""
