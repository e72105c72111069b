"""Reading attached and fetched files: what they are, and the words of the letters among them."""
