;; The host's interrupt flag arrives as a condition handler-case can catch.
(print (handler-case (progn (test:set-interrupt) (loop)) (interrupt () 'interrupted)))
(print (handler-case (progn (test:set-interrupt) (loop (sleep 1))) (sb-sys:interactive-interrupt () 'ctrl-c)))
(print (handler-case (handler-case (progn (test:set-interrupt) (loop)) (error () 'not-an-error)) (condition () 'condition)))
(print (let ((cleaned nil)) (handler-case (unwind-protect (progn (test:set-interrupt) (loop)) (setf cleaned t)) (interrupt () cleaned))))
(progn (test:set-interrupt) (dotimes (i 1000000) i))
(print 'still-running)
