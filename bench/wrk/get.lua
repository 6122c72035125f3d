-- GET one path, signed in when BENCH_SESSION holds a session key. A signed-in
-- browser also holds the CSRF cookie the login form set (BENCH_CSRF).
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local session = os.getenv("BENCH_SESSION") or ""
if session ~= "" then
  wrk.headers["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. os.getenv("BENCH_CSRF")
end
wrk.path = os.getenv("BENCH_PATH")
