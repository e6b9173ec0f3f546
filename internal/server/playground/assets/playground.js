// Plugboard playground: GraphiQL with the API key taken from the field in the bar.
//
// Every request to /graphql needs a key, the schema query included, so GraphiQL is rendered
// with `schema: null` (it then fetches nothing) until a key is entered, and is rendered again
// with a new fetcher whenever the key changes: GraphiQL introspects again when its fetcher
// changes, so the Docs pane and autocompletion follow the key. This file is a separate script,
// not inline, so that the page's Content-Security-Policy can forbid inline scripts.
(function () {
  'use strict';

  // The key stays in sessionStorage: it is a secret and must not outlive the tab.
  const storageName = 'plugboard.token';
  const input = document.getElementById('token');
  const hint = document.getElementById('hint');
  const params = new URLSearchParams(location.search);
  const defaultQuery = params.get('query') ||
    '# Enter your API key above, then run:\n{\n  viewer {\n    organisation { name }\n    scopes\n  }\n}\n';
  // Nothing here streams (@defer is not served), so the plain JSON fetcher is enough.
  const fetchGraphQL = GraphiQL.createFetcher({ url: '/graphql', enableIncrementalDelivery: false });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  let current = null; // the key GraphiQL was last rendered with

  const hints = {
    none: 'Enter an API key or token to load the schema (Docs, autocompletion) and run queries.',
    loading: 'Loading the schema…',
    loaded: 'Schema loaded: Docs (book icon, left) and autocompletion are ready. The key is sent as Authorization: Bearer … and kept in this tab only.',
  };
  function setHint(text, isError) {
    hint.textContent = text;
    hint.classList.toggle('error', Boolean(isError));
  }

  // Without a key nothing is sent: the server would only answer UNAUTHENTICATED.
  function keyless() {
    return Promise.resolve({ errors: [{ message: hints.none }] });
  }

  function fetcherFor(key) {
    return function (graphQLParams, options) {
      const headers = Object.assign({}, options && options.headers);
      // The key field wins over an Authorization typed in the headers pane.
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase() === 'authorization') delete headers[name];
      }
      headers.Authorization = 'Bearer ' + key;
      const answer = fetchGraphQL(graphQLParams, Object.assign({}, options, { headers }));
      if (graphQLParams.operationName !== 'IntrospectionQuery') return answer;
      // A refused schema query (wrong or revoked key, missing scope) says why in the bar, where
      // the person who typed the key is looking.
      return Promise.resolve(answer).then(function (result) {
        if (key === current && !(result && result.data && result.data.__schema)) {
          const message = result && result.errors && result.errors[0] && result.errors[0].message;
          setHint('The schema could not be loaded: ' + (message || 'no answer') + '.', true);
        }
        return result;
      }, function (err) {
        if (key === current) setHint('The schema could not be loaded: ' + err.message + '.', true);
        throw err;
      });
    };
  }

  function onSchemaChange() {
    setHint(hints.loaded);
  }

  function render(key) {
    if (key === current) return;
    current = key;
    setHint(key ? hints.loading : hints.none);
    root.render(React.createElement(GraphiQL, {
      fetcher: key ? fetcherFor(key) : keyless,
      // undefined: introspect with the fetcher; null: no schema, and no request for one.
      schema: key ? undefined : null,
      onSchemaChange,
      // The standard query with all its options: deprecated arguments and the schema's
      // description are shown too.
      inputValueDeprecation: true,
      schemaDescription: true,
      defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }));
  }

  // While a key is being typed, wait for a pause rather than sending a schema query per
  // character; leaving the field or pressing Enter applies it at once.
  let pending = 0;
  function keyChanged(now) {
    clearTimeout(pending);
    const key = input.value.trim();
    if (key) sessionStorage.setItem(storageName, key);
    else sessionStorage.removeItem(storageName);
    if (now) render(key);
    else pending = setTimeout(function () { render(input.value.trim()); }, 400);
  }
  input.addEventListener('input', function () { keyChanged(false); });
  input.addEventListener('change', function () { keyChanged(true); });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter') keyChanged(true);
  });

  input.value = sessionStorage.getItem(storageName) || '';
  render(input.value.trim());
})();
