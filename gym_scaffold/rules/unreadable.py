"""A path given to validate that cannot be read.

Missing files, unreadable files, FIFOs and looping symbolic links are reported with
the reason instead of being skipped silently.

Failing:

    (validate a path that does not exist)

Passing:

    (validate an existing, readable YAML file)
"""

ID = "unreadable"
SEVERITY = "error"
SUMMARY = "a path that cannot be read (missing, unreadable, not a regular file)"
