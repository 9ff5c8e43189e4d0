"""casetasks: the GraphQL backend of the caseworker portal's Tasks feature."""
