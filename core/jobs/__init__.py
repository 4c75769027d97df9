"""Reports produced in the background: the job record, its runner, and the download page."""
