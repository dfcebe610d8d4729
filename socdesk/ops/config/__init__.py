"""Configuration as code: `socdesk config export` and `socdesk config apply FILE [--dry-run]`.

One YAML document holds the installation's shape (departments with their auto-close days, roles, teams,
auto-assignment modes, schedules, SLA plans, help topics, integrations, ticket filters), with every
reference written as a name, so a file moves between installations. The modules:

- `document`: reads the YAML, keeping the line of every key and item, and the `Problem` an error becomes;
- `schema`: the small vocabulary the kinds describe their entries with (checked and made canonical in one
  walk, so a problem names its path and line);
- `kinds/`: one `Kind` per object kind (how to read it from the database, its schema, how to write it
  through the existing services), listed in the order they are applied;
- `engine`: export, and apply (check the whole file, then write each changed object in one transaction).

The canonical form of an entry is what export writes: apply compares a file's entry, made canonical, with
the exported form of the object of the same name, and calls a service only when they differ. So a second
apply changes nothing and records nothing, and export -> apply -> export gives the same text.
"""
