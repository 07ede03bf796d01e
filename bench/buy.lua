-- wrk script: one hot drop; every request is a purchase by a fresh buyer with a fresh
-- idempotency key. THUNDER_TOKEN and THUNDER_ORDERS_PATH come from the environment.
-- THUNDER_DELAY_MS, when set, makes each connection wait that long between requests,
-- which fixes the offered load (connections x 1000 / (delay + latency) requests/s).
local token = os.getenv("THUNDER_TOKEN")
local path = os.getenv("THUNDER_ORDERS_PATH")
local pause = tonumber(os.getenv("THUNDER_DELAY_MS") or "0")
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  prefix = "w" .. tid .. "-" .. math.random(1, 1000000000) .. "-"
  counter = 0
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local buyer = prefix .. counter
  return wrk.format("POST", path, nil,
                    '{"buyer":"' .. buyer .. '","idempotency_key":"' .. buyer .. '"}')
end

if pause > 0 then
  function delay()
    return pause
  end
end
