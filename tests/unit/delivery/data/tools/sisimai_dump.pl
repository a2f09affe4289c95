use strict; use warnings; use Sisimai; use JSON;
my $json = JSON->new->canonical(1);
for my $path (@ARGV) {
  my $v = eval { Sisimai->rise($path, 'delivered' => 1, 'vacation' => 1) } // [];
  my $i = 0;
  for my $f (@$v) {
    print $json->encode({file=>$path, n=>$i++, by=>$f->smtpagent//'', reason=>$f->reason//'', code=>$f->replycode//'',
      status=>$f->deliverystatus//'', diag=>$f->diagnosticcode//'', rhost=>$f->rhost//'', lhost=>$f->lhost//'',
      dest=>$f->destination//'', cmd=>$f->smtpcommand//'', dtype=>$f->diagnostictype//''}), "\n";
  }
}
