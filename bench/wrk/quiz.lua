-- Submit answers to a quiz: every request POSTs to another open attempt, as its
-- learner (session cookie) with the CSRF cookie and token.
-- BENCH_ATTEMPTS is a file of "attempt_id,session_key,csrf_secret" lines; this
-- run uses lines BENCH_FIRST to BENCH_LAST (1-based), shared out between threads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local counter = 0
function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local attempts = {}
local position = 0
local body_answers = os.getenv("BENCH_QUIZ_BODY")

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local first = tonumber(os.getenv("BENCH_FIRST"))
  local last = tonumber(os.getenv("BENCH_LAST"))
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_ATTEMPTS")) do
    line_number = line_number + 1
    if line_number >= first and line_number <= last
        and (line_number - first) % threads == thread_index then
      local id, session, csrf = line:match("^(%d+),([^,]+),([^,]+)$")
      table.insert(attempts, {id = id, session = session, csrf = csrf})
    end
  end
end

function request()
  position = position % #attempts + 1
  local attempt = attempts[position]
  return wrk.format("POST", "/moi/quiz/" .. attempt.id .. "/", {
    ["Cookie"] = "sessionid=" .. attempt.session .. "; csrftoken=" .. attempt.csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "csrfmiddlewaretoken=" .. attempt.csrf .. "&" .. body_answers)
end
