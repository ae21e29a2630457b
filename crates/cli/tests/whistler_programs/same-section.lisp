;;; Two programs in sections of the same name, as Whistler writes objects (its multi-prog
;;; example puts several programs in one object): both load, both attach to the exec
;;; tracepoint, and each counts every exec in its own slot.
;; run:
;; workload: /bin/true; /bin/true; /bin/true
;; expect-map: execs-seen 0 >= 3
;; expect-map: execs-seen 1 >= 3

(defmap execs-seen :type :array :key-size 4 :value-size 8 :max-entries 2)

(defprog first-counter (:type :tracepoint
                        :section "tracepoint/sched/sched_process_exec"
                        :license "GPL")
  (incf (getmap execs-seen 0))
  0)

(defprog second-counter (:type :tracepoint
                         :section "tracepoint/sched/sched_process_exec"
                         :license "GPL")
  (incf (getmap execs-seen 1))
  0)
