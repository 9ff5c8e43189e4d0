// Apollo Client with its persisted queries link, as a browser app would set it up, running one
// query twice against casetasks. Prints {"requests": [...], "results": [...]} as JSON: what
// each HTTP request carried (method, query text or not, hash) and what each query returned.
// Usage: node apq.mjs <graphql url> <bearer token> <post|get> <query>
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const [url, token, method, query] = process.argv.slice(2);
const requests = [];

async function recordingFetch(input, init = {}) {
  const target = new URL(typeof input === "string" ? input : input.url);
  const sent = init.method === "GET"
    ? Object.fromEntries(target.searchParams)
    : JSON.parse(init.body);
  const extensions = typeof sent.extensions === "string" ? JSON.parse(sent.extensions) : sent.extensions;
  const response = await fetch(input, init);
  const text = await response.clone().text();
  requests.push({
    method: init.method ?? "GET",
    withQuery: Boolean(sent.query),
    sha256Hash: extensions?.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    answer: JSON.parse(text),
  });
  return response;
}

const link = createPersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: method === "get",
}).concat(new HttpLink({ uri: url, fetch: recordingFetch, headers: { Authorization: `Bearer ${token}` } }));

const client = new ApolloClient({ link, cache: new InMemoryCache() });
const results = [];
for (let run = 0; run < 2; run += 1) {
  const { data, errors } = await client.query({ query: gql(query), fetchPolicy: "network-only" });
  results.push({ data, errors: errors ?? null });
}
process.stdout.write(JSON.stringify({ requests, results }));
