;;; Packets leaving one cgroup, counted by a cgroup_skb/egress program, in the spirit of
;;; Whistler's cgroup-skb-session example: the session makes a cgroup under the cgroup v2
;;; mount, attaches to it, runs a workload inside it with run-program, and reads the count.
;; run:
;; expect: packets from the workload's cgroup: counted
;; expect: packets from elsewhere: not counted

(defun cgroup2-mount ()
  "Where cgroup v2 is mounted, from /proc/self/mounts."
  (with-open-file (in "/proc/self/mounts")
    (loop for line = (read-line in nil)
          while line
          do (let* ((fields (loop with start = 0
                                  for space = (position #\Space line :start start)
                                  collect (subseq line start space)
                                  while space
                                  do (setf start (1+ space)))))
               (when (string= (third fields) "cgroup2")
                 (return (second fields)))))))

(defparameter *cgroup*
  (format nil "~a/whistler-programs-~d/" (cgroup2-mount) (random 1000000 (make-random-state t))))

(defun shell (command)
  (sb-ext:process-exit-code (sb-ext:run-program "/bin/sh" (list "-c" command))))

(ensure-directories-exist *cgroup*)
(unwind-protect
     (with-bpf-session ()
       (bpf:map egress-packets :type :array :key-size 4 :value-size 8 :max-entries 1)
       (bpf:prog count-egress (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
         (incf (getmap egress-packets 0))
         1)
       (bpf:attach count-egress *cgroup*)
       (shell "curl -s -m 1 http://127.0.0.1:9/")
       (format t "packets from elsewhere: ~:[not counted~;counted~]~%"
               (plusp (or (bpf:map-ref egress-packets 0) 0)))
       (shell (format nil "echo $$ > ~acgroup.procs && curl -s -m 1 http://127.0.0.1:9/" *cgroup*))
       (format t "packets from the workload's cgroup: ~:[not counted~;counted~]~%"
               (plusp (or (bpf:map-ref egress-packets 0) 0))))
  (shell (format nil "rmdir ~a" *cgroup*)))
