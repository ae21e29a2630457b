;; The harness of the conformance checks, in portable Common Lisp so the same files run in SBCL
;; (`sbcl --script harness.lisp` then a checks file; `tests/conformance.rs` does both) and here.
;;
;;   (check FORM VALUE...)        FORM returns exactly these values (compared with `same`)
;;   (check-error TYPE FORM)      FORM signals a condition of TYPE
;;
;; The expected values are the standard's (CLHS) documented results, confirmed with SBCL.

(defvar *conformance-failures* '())
(defvar *conformance-checks* 0)

(defun same (a b)
  "Strings by string=, conses and vectors element by element, everything else by eql."
  (cond ((and (stringp a) (stringp b)) (string= a b))
        ((and (consp a) (consp b)) (and (same (car a) (car b)) (same (cdr a) (cdr b))))
        ((and (vectorp a) (vectorp b))
         (and (= (length a) (length b)) (every #'same a b)))
        (t (eql a b))))

(defun conformance-failed (form expected actual)
  (push (format nil "~S~%    expected ~S~%    got      ~S" form expected actual)
        *conformance-failures*))

(defmacro check (form &rest expected)
  `(let ((actual (handler-case (multiple-value-list ,form)
                   (error (e) (list :error (princ-to-string e))))))
     (incf *conformance-checks*)
     (unless (same actual ',expected)
       (conformance-failed ',form ',expected actual))))

(defmacro check-error (type form)
  `(let ((signalled (handler-case (progn ,form nil)
                      (,type () t)
                      (error (e) (princ-to-string e)))))
     (incf *conformance-checks*)
     (unless (eq signalled t)
       (conformance-failed ',form '(:error ,type) signalled))))
