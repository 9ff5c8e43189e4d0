"""The rules of casetasks: plain async functions over a session, with no GraphQL in them."""
