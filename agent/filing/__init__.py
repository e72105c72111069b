"""Filing requests: the agency directory, letters from templates, single requests and campaigns."""
