"""The expert database (评审专家库): experts, their logins, specialties and declared conflicts."""
