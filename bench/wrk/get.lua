-- GET one path, signed in when BENCH_SESSION holds a session key.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local session = os.getenv("BENCH_SESSION") or ""
if session ~= "" then
  wrk.headers["Cookie"] = "sessionid=" .. session
end
wrk.path = os.getenv("BENCH_PATH")
