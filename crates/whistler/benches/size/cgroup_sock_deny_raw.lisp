;; Refuses raw sockets (SOCK_RAW, 3) to the processes of a cgroup, counting the refusals.
(defmap raw-refusals :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog deny-raw (:type :cgroup-sock :section "cgroup/sock_create" :license "GPL")
  (when (= (ctx type) 3)
    (incf (getmap raw-refusals 0))
    (return 0))
  1)
