-- wrk script of `make bench`: POSTs the GraphQL body in $BODY_FILE. With $PAIRS_FILE, each
-- request takes a random line "<api key> [<id> [<name>]]": the key goes in Authorization
-- (Plugboard is called with a real API key on every request), the id replaces the first UUID in
-- "variables" and the name replaces __NAME__ (updateConnector replaces the whole connector, so
-- it sends the connector's own name). With $IDS_FILE (one id per line, no key), only the id
-- changes, as in the shared harness. Without $BODY_FILE it sends GETs (executeAction's
-- HAProxy baseline). Every answer is checked in `response`: HTTP 200, no "errors" member, and
-- $EXPECT (when set) somewhere in the body; the bad ones are counted (bad_answers in the RESULT
-- line, the first one printed), and bench/run.sh fails the run on any.
-- Prints a RESULT line at the end.
local body = ""
local body_file = os.getenv("BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
wrk.headers["Accept"] = "application/graphql-response+json, application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local pairs_file = os.getenv("PAIRS_FILE")
local ids_file = os.getenv("IDS_FILE")
if (pairs_file and pairs_file ~= "") or (ids_file and ids_file ~= "") then
  local keys, ids, names = {}, {}, {}
  if pairs_file and pairs_file ~= "" then
    for line in io.lines(pairs_file) do
      local k, id, name = line:match("^(%S+)%s*(%S*)%s*(%S*)$")
      if k then keys[#keys + 1] = k; ids[#ids + 1] = id; names[#names + 1] = name end
    end
  else
    for line in io.lines(ids_file) do
      if #line > 0 then keys[#keys + 1] = ""; ids[#ids + 1] = line; names[#names + 1] = "" end
    end
  end
  assert(#keys > 0, "PAIRS_FILE is empty")
  local uuid = "%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x"
  local vstart = body:find('"variables"', 1, true) or 1
  local s, e = body:find(uuid, vstart)
  local pre, post
  if s then pre, post = body:sub(1, s - 1), body:sub(e + 1) end
  local addr = tostring({}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(addr, 16) % 100000)
  -- Every request is formatted once here, so that per request wrk only picks one: the load
  -- generator shares the cores with the server and PostgreSQL and should take as little as it can.
  -- Formatted in init, after wrk has set the Host header.
  local reqs, n = {}, 0
  init = function()
  for i = 1, #keys do
    local headers = {["Content-Type"] = "application/json"}
    if keys[i] ~= "" then headers["Authorization"] = "Bearer " .. keys[i] end
    local b = body
    if pre and ids[i] ~= "" then b = pre .. ids[i] .. post end
    if names[i] ~= "" then b = b:gsub("__NAME__", names[i]) end
    reqs[i] = wrk.format("POST", nil, headers, b)
  end
  n = #reqs
  end
  request = function()
    return reqs[math.random(n)]
  end
end

-- Each wrk thread has its own Lua state: the counts live there and `done` collects them.
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
bad, first_bad = 0, ""
local expect = os.getenv("EXPECT")
if expect == "" then expect = nil end
response = function(status, headers, b)
  -- A root field answered null (a missing row) is as bad as an error, for either server.
  if status ~= 200 or b:find('"errors"', 1, true) or (expect and not b:find(expect, 1, true))
      or (not expect and b:find('^{"data":{"[%w_]+":null')) then
    bad = bad + 1
    if bad == 1 then first_bad = "HTTP " .. status .. " " .. b:sub(1, 300) end
  end
end

done = function(summary, latency, requests)
  local nbad, sample = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    local s = t:get("first_bad")
    if sample == "" and s and s ~= "" then sample = s end
  end
  if nbad > 0 then io.write("BAD first answer: " .. sample:gsub("\n", " ") .. "\n") end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d timeouts=%d bad_answers=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout, e.timeout, nbad))
end
